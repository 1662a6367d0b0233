// Test helper: a report opened in headless Chromium (playwright-core), its charts drawn.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.JOULES_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Open `file`, wait until every chart is drawn; `errors` collects the page's errors. */
export async function openReport(
  file: string,
  viewport = { width: 1300, height: 900 },
): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(pathToFileURL(file).href);
    await page.evaluate(() =>
      (globalThis as unknown as { joulesReport: Promise<unknown> }).joulesReport.then(() => true),
    );
    return { page, errors, close: () => browser.close() };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/** Each chart's drawn marks (every item of every mark: symbols, lines, rules, rects), by chart id, in page order. */
export function marksPerChart(page: Page): Promise<Record<string, number>> {
  interface Element {
    id: string;
    querySelectorAll(selector: string): ArrayLike<Element>;
  }
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: Element }).document;
    return Object.fromEntries(
      Array.from(doc.querySelectorAll('.chart')).map((d) => [d.id, d.querySelectorAll('.role-mark > *').length]),
    );
  });
}

/** The values of a named dataset of a chart, as vega holds them. */
export function chartData(page: Page, chart: string, dataset: string): Promise<Record<string, unknown>[]> {
  return page.evaluate(
    async ([id, name]) => {
      const views = await (
        globalThis as unknown as { joulesReport: Promise<[string, { data(n: string): unknown[] }][]> }
      ).joulesReport;
      const view = views.find(([v]) => v === id)?.[1];
      if (!view) throw new Error(`no chart ${id}`);
      return JSON.parse(JSON.stringify(view.data(name ?? ''))) as Record<string, unknown>[];
    },
    [chart, dataset] as const,
  );
}
