/** Human formatting of measured numbers (never hides a null). */
export function fmt(value: number | null, unit = '', digits = 4): string {
  if (value === null) return 'not measured';
  const abs = Math.abs(value);
  const text =
    abs !== 0 && (abs < 1e-3 || abs >= 1e6)
      ? value.toExponential(digits - 1)
      : Number(value.toPrecision(digits)).toString();
  return unit ? `${text} ${unit}` : text;
}
