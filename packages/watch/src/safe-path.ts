import { realpath } from 'node:fs/promises';
import path from 'node:path';

const inside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * The file a URL path (below `/files/`, still percent-encoded) names inside `root`, or undefined
 * when it could leave it. Each segment is decoded once; a decoded segment that is empty, `.` or
 * `..`, or holds a slash, a backslash or a NUL is refused (so `%2e%2e`, `%2f` and `..%5c` cannot
 * climb), as is anything that resolves (symbolic links followed) outside `root`.
 */
export async function resolveInside(root: string, encodedPath: string): Promise<string | undefined> {
  const segments: string[] = [];
  for (const raw of encodedPath.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (seg === '.' || seg === '..' || /[/\\\0]/.test(seg) || path.isAbsolute(seg) || /^[a-zA-Z]:/.test(seg))
      return undefined;
    segments.push(seg);
  }
  if (!segments.length) return undefined;
  const base = path.resolve(root);
  const candidate = path.join(base, ...segments);
  if (!inside(base, candidate)) return undefined;
  try {
    const [realBase, real] = await Promise.all([realpath(base), realpath(candidate)]);
    return inside(realBase, real) ? real : undefined;
  } catch {
    return undefined;
  }
}
