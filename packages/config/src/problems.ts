import type { z } from 'zod';

/** A path into a config document: keys and array indices. */
export type DocPath = (string | number)[];

/** One problem found in a config, before it is given a file and line. */
export interface Problem {
  path: DocPath;
  message: string;
  /** The cross-field rule that found it; absent for schema problems. */
  rule?: string;
}

/** `a.b[2].c` from a path. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** `path: message`, `(root): message` at the top. */
export function problemText(p: Problem): string {
  return `${formatPath(p.path) || '(root)'}: ${p.message}`;
}

const toDocPath = (path: ReadonlyArray<PropertyKey>): DocPath =>
  path.map((k) => (typeof k === 'number' ? k : String(k)));

/** The only union branch that failed for a reason other than the value's type, if there is one. */
function closestBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  const typed = branches.filter(
    (issues) => !issues.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')),
  );
  return typed.length === 1 ? typed[0] : undefined;
}

/** One problem per zod issue; unknown keys get one problem each, bad record keys say why. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], prefix: DocPath = []): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...toDocPath(issue.path)];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown key' });
    } else if (issue.code === 'invalid_union' && closestBranch(issue.errors)) {
      // One branch had the right type but failed inside: its problems say more than "invalid input".
      out.push(...issuesToProblems(closestBranch(issue.errors)!, path));
    } else if (issue.code === 'invalid_key') {
      const why = issue.issues.map((i) => i.message).join('; ');
      out.push({ path, message: `invalid name${why ? `: ${why}` : ''}` });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** One `path: message` line per problem (kept for callers of 0.1). */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): { path: PropertyKey[]; text: string }[] {
  return issuesToProblems(issues).map((p) => ({ path: p.path, text: problemText(p) }));
}

/** Problems and warnings collected by a check. */
export interface Findings {
  errors: Problem[];
  warnings: Problem[];
}
