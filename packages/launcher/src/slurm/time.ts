/**
 * Slurm's time formats (`--time`): `minutes`, `minutes:seconds`, `hours:minutes:seconds`,
 * `days-hours`, `days-hours:minutes`, `days-hours:minutes:seconds`; a number is minutes.
 * Returns seconds, `null` for no limit (`UNLIMITED`, `INFINITE`), or undefined when malformed.
 */
export function parseSlurmTime(value: string | number): number | null | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.round(value * 60) : undefined;
  const text = value.trim();
  if (/^(unlimited|infinite)$/i.test(text)) return null;
  const withDays = /^(\d+)-(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
  if (withDays) {
    const [, d, h, m, s] = withDays.map((x) => Number(x ?? 0));
    return d! * 86400 + h! * 3600 + m! * 60 + s!;
  }
  const parts = /^\d+(?::\d+){0,2}$/.test(text) ? text.split(':').map(Number) : undefined;
  if (!parts) return undefined;
  if (parts.length === 1) return parts[0]! * 60;
  if (parts.length === 2) return parts[0]! * 60 + parts[1]!;
  return parts[0]! * 3600 + parts[1]! * 60 + parts[2]!;
}

/** Whole minutes for `sbatch --time`, rounded up (Slurm counts in minutes), at least 1. */
export function toSlurmMinutes(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 60));
}
