/**
 * Renders a Vega-Lite chart to an SVG document in Node, with no browser: vega-lite compiles the spec to Vega,
 * and a headless Vega view (renderer "none") serialises it with toSVG(). Used by the drill timelines and the
 * benchmark plots.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export type ChartSpec = TopLevelSpec;

/** The chart as a standalone SVG document (XML declaration included, so it opens as a file). */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    return `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n`;
  } finally {
    view.finalize();
  }
}
