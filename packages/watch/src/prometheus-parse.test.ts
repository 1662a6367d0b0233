import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './index.js';

const ok = `# HELP a_total Things.\n# TYPE a_total counter\na_total{k="x \\"q\\" \\\\ \\n"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n`;

describe('parsePrometheusText (strict)', () => {
  it('reads a valid exposition, escapes included', () => {
    const f = parsePrometheusText(ok);
    expect(f.get('a_total')).toMatchObject({
      type: 'counter',
      help: 'Things.',
      samples: [{ labels: { k: 'x "q" \\ \n' }, value: 3 }],
    });
    expect(f.get('h')!.samples).toHaveLength(4);
  });

  it.each([
    ['no final newline', 'a 1'],
    ['a bad value', 'a one\n'],
    ['a bad metric name', '1a 1\n'],
    ['a bad label name', 'a{1k="v"} 1\n'],
    ['an unquoted label value', 'a{k=v} 1\n'],
    ['a bad escape', 'a{k="\\t"} 1\n'],
    ['a duplicate series', 'a{k="v"} 1\na{k="v"} 2\n'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['an unknown type', '# TYPE a meter\n'],
    ['a family split in two', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    [
      'buckets that are not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
    ['+Inf different from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['a histogram without _sum', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
