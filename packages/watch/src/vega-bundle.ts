import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The minified browser build of a package, read from beside its main entry. */
function browserBuild(pkg: string, file: string): string {
  const main = fileURLToPath(import.meta.resolve(pkg));
  return readFileSync(path.join(path.dirname(main), file), 'utf8');
}

/** Text safe inside <script>: no `</script` can end the element early. */
export const scriptSafe = (s: string) => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let cached: string | undefined;

/**
 * vega, vega-lite and vega-embed as inline `<script>` elements (≈1.5 MB, read once): a page
 * that draws vega-lite charts with nothing fetched from a network (the report and the dashboard).
 */
export function vegaScriptTags(): string {
  cached ??= [
    browserBuild('vega', 'vega.min.js'),
    browserBuild('vega-lite', 'vega-lite.min.js'),
    browserBuild('vega-embed', 'vega-embed.min.js'),
  ]
    .map((l) => `<script>${scriptSafe(l)}</script>`)
    .join('\n');
  return cached;
}
