/**
 * A drill's timeline as an SVG chart: the load's delivered and failed operations per second over the drill, with
 * the fault, each alert that fired and the recovery marked; time in seconds from the fault.
 */
import { renderSvg, type ChartSpec } from "../harness/vega-svg";
import type { DrillResult } from "./types";

const COLORS = { delivered: "#15803d", failed: "#dc2626", fault: "#111827", alert: "#7c3aed", recovered: "#2563eb" };

/** The chart spec of one drill's timeline; undefined when the drill recorded none. */
export function timelineSpec(
  result: Pick<DrillResult, "name" | "passed" | "recoverySeconds" | "alerts" | "timeline">,
): ChartSpec | undefined {
  const t = result.timeline;
  if (t === undefined) return undefined;
  const zero = t.faultAt ?? t.startedAt;
  const seconds = (at: number) => Math.round((at - zero) / 10) / 100;
  const perSecond = 1000 / t.series.bucketMs;
  const points = t.series.points.flatMap((p) => [
    { s: seconds(p.at), series: "delivered", rate: p.delivered * perSecond },
    { s: seconds(p.at), series: "failed", rate: p.failed * perSecond },
  ]);
  const marks = [
    ...(t.faultAt !== undefined ? [{ s: 0, what: "fault", label: "fault" }] : []),
    ...result.alerts.map((a) => ({ s: Math.round(a.firedAfterSeconds * 100) / 100, what: "alert", label: `${a.name} fired` })),
    ...(t.recoveredAt !== undefined ? [{ s: seconds(t.recoveredAt), what: "recovered", label: "recovered" }] : []),
  ];
  const rows = marks.map((m, i) => ({ ...m, py: 2 + 13 * i }));
  const xs = [...points.map((p) => p.s), ...marks.map((m) => m.s)];
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  // Room on the right for the last mark's label.
  const domain = [lo, hi + (hi - lo) * 0.22];
  const recovery = result.recoverySeconds === null ? "never recovered" : `recovery ${result.recoverySeconds.toFixed(2)} s`;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: `${result.name}: ${result.passed ? "PASS" : "FAIL"}, ${recovery}`,
      subtitle: "operations per second seen by the drill's clients",
    },
    width: 720,
    height: 240,
    layer: [
      {
        data: { values: points },
        mark: { type: "line", interpolate: "step-after", strokeWidth: 1.5 },
        encoding: {
          x: {
            field: "s",
            type: "quantitative",
            title: t.faultAt !== undefined ? "seconds after the fault" : "seconds",
            scale: { domain, nice: false },
          },
          y: { field: "rate", type: "quantitative", title: "operations / s" },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            legend: { orient: "bottom" },
            scale: { domain: ["delivered", "failed"], range: [COLORS.delivered, COLORS.failed] },
          },
        },
      },
      {
        data: { values: marks },
        mark: { type: "rule", strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: {
          x: { field: "s", type: "quantitative" },
          color: {
            field: "what",
            type: "nominal",
            legend: null,
            scale: { domain: ["fault", "alert", "recovered"], range: [COLORS.fault, COLORS.alert, COLORS.recovered] },
          },
        },
      },
      {
        data: { values: rows },
        mark: { type: "text", align: "left", baseline: "top", dx: 3, fontSize: 10 },
        encoding: {
          x: { field: "s", type: "quantitative" },
          y: { field: "py", type: "quantitative", scale: null },
          text: { field: "label" },
          color: { value: COLORS.fault },
        },
      },
    ],
    resolve: { scale: { color: "independent" } },
    config: { background: "white" },
  } as ChartSpec;
}

/** The timeline SVG of one drill, or undefined when it recorded none. */
export async function timelineSvg(result: Parameters<typeof timelineSpec>[0]): Promise<string | undefined> {
  const spec = timelineSpec(result);
  return spec === undefined ? undefined : renderSvg(spec);
}
