import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { BackendStatus } from "../api/types";
import { DEFAULT_NORMALIZATION, evaluationForm, filesProblem } from "./api";
import { documentSources } from "./DocumentCompare";
import { EvaluationsView } from "./EvaluationsView";
import { documentDetail, evaluation, row } from "./fixtures";
import { KindTable, Leaderboard } from "./Leaderboard";
import {
  cell, chartPoints, DEFAULT_SORT, kindRows, nextSort, paretoFront, parseRoute, percent, rate, routeHash, sortRows, worstDocuments,
} from "./logic";
import { chartSummary, Scatter, ticks } from "./Scatter";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.location.hash = "";
});

const names = (rows: { backend: string }[]) => rows.map((r) => r.backend);

describe("sorting the leaderboard", () => {
  const rows = [row("b", 0.1, 3), row("a", 0.3, 5), row("c", null, null), row("d", 0.1, 1)];
  it("sorts by CER best first, ties by name, rows without a value last either way", () => {
    expect(names(sortRows(rows, DEFAULT_SORT))).toEqual(["b", "d", "a", "c"]);
    expect(names(sortRows(rows, { key: "cer", direction: "descending" }))).toEqual(["a", "b", "d", "c"]);
  });
  it("sorts by speed, by name and by macro figures", () => {
    expect(names(sortRows(rows, { key: "pages_per_second", direction: "descending" }))).toEqual(["a", "b", "d", "c"]);
    expect(names(sortRows(rows, { key: "backend", direction: "ascending" }))).toEqual(["a", "b", "c", "d"]);
    expect(names(sortRows(rows, { key: "macro_word_f1", direction: "descending" }))).toEqual(["b", "d", "a", "c"]);
  });
  it("a new column starts best first; the same column turns around", () => {
    expect(nextSort(DEFAULT_SORT, "word_f1")).toEqual({ key: "word_f1", direction: "descending" });
    expect(nextSort(DEFAULT_SORT, "wer")).toEqual({ key: "wer", direction: "ascending" });
    expect(nextSort(DEFAULT_SORT, "backend")).toEqual({ key: "backend", direction: "ascending" });
    expect(nextSort(DEFAULT_SORT, "cer")).toEqual({ key: "cer", direction: "descending" });
  });
});

describe("the Pareto front", () => {
  it("is exactly the backends no other is both more accurate and faster than", () => {
    const points = [
      { backend: "fast", accuracy: 0.7, speed: 10 },
      { backend: "accurate", accuracy: 0.99, speed: 0.5 },
      { backend: "middle", accuracy: 0.9, speed: 4 },
      { backend: "dominated", accuracy: 0.85, speed: 3 },
      { backend: "slow-and-bad", accuracy: 0.6, speed: 0.2 },
      { backend: "same-speed-worse", accuracy: 0.95, speed: 0.5 },
      { backend: "twin", accuracy: 0.9, speed: 4 },
    ];
    expect([...paretoFront(points)].sort()).toEqual(["accurate", "fast", "middle", "twin"]);
  });
  it("leaves out backends without figures", () => {
    const points = chartPoints([row("a", 0.1, 1), row("b", null, 2), row("c", 0.2, null)]);
    expect(points).toEqual([{ backend: "a", accuracy: 0.9, speed: 1 }]);
    expect([...paretoFront(points)]).toEqual(["a"]);
  });
});

describe("worst documents and the per-kind table", () => {
  it("lists a backend's failed documents first, then by CER, highest first", () => {
    expect(worstDocuments(evaluation.results, "tesseract").map((r) => r.document)).toEqual(["b.png", "a.png", "c.png"]);
    expect(worstDocuments(evaluation.results, "rapidocr", 2).map((r) => r.document)).toEqual(["b.png", "a.png"]);
  });
  it("has a row per kind and backend, kinds by name, backends in the leaderboard's order", () => {
    expect(kindRows(evaluation.leaderboard).map((r) => `${r.kind}/${r.backend}/${r.documents}`))
      .toEqual(["letter/rapidocr/2", "letter/tesseract/1", "receipt/rapidocr/1", "receipt/tesseract/1"]);
  });
});

describe("formatting and routes", () => {
  it("writes rates and speeds", () => {
    expect(percent(0.0834)).toBe("8.3 %");
    expect(percent(null)).toBe("—");
    expect(rate(0.4567)).toBe("0.46");
    expect(rate(3.21)).toBe("3.2");
    expect(rate(42.4)).toBe("42");
    expect(cell(evaluation.leaderboard[1], "documents")).toBe("2 (1 failed)");
    expect(ticks(1.1)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
  });
  it("reads and writes the view's URLs", () => {
    expect(parseRoute("#/evaluations")).toEqual({ page: "list" });
    expect(parseRoute("#/evaluations/ab12")).toEqual({ page: "evaluation", id: "ab12" });
    const route = { page: "document", id: "ab12", name: "scans/x y.png", backend: "rapidocr" } as const;
    expect(routeHash(route)).toBe("#/evaluations/ab12/documents/scans%2Fx%20y.png?backend=rapidocr");
    expect(parseRoute(routeHash(route))).toEqual(route);
  });
  it("builds the start form: a zip as archive, files as file, the sample as sample=true", () => {
    const zip = new File(["PK"], "set.zip", { type: "application/zip" });
    const form = evaluationForm({ sample: false, files: [zip] }, ["rapidocr", "tesseract"], { ...DEFAULT_NORMALIZATION, case: false });
    expect((form.get("archive") as File).name).toBe("set.zip");
    expect(form.get("backends")).toBe("rapidocr,tesseract");
    expect(form.get("normalization")).toBe("whitespace,markdown,unicode");
    const none = { case: false, whitespace: false, markdown: false, unicode: false };
    expect(evaluationForm({ sample: true }, ["rapidocr"], none).get("normalization")).toBe("none");
    const files = evaluationForm({ sample: false, files: [new File(["x"], "a.png"), new File(["a"], "a.txt")] }, ["rapidocr"], DEFAULT_NORMALIZATION);
    expect(files.getAll("file").map((file) => (file as File).name)).toEqual(["a.png", "a.txt"]);
    expect(evaluationForm({ sample: true }, ["rapidocr"], DEFAULT_NORMALIZATION).get("sample")).toBe("true");
  });
  it("refuses more files than one form takes, before any upload", () => {
    const files = (count: number) => Array.from({ length: count }, (_, index) => new File(["x"], `f${index}.png`));
    expect(filesProblem(files(62))).toBeNull();
    expect(filesProblem(files(63))).toContain("put the set in one zip");
  });
  it("puts the opened backend first and the reference second in a document's diff", () => {
    expect(documentSources(documentDetail, "tesseract").map((s) => s.name)).toEqual(["tesseract", "reference", "rapidocr"]);
  });
});

describe("rendering", () => {
  it("draws the leaderboard with sortable headers and aria-sort", () => {
    render(<Leaderboard rows={evaluation.leaderboard} front={new Set(["rapidocr", "tesseract"])} />);
    const table = screen.getByTestId("leaderboard");
    const order = () => within(table).getAllByRole("row").slice(1).map((r) => r.getAttribute("data-backend"));
    expect(order()).toEqual(["rapidocr", "tesseract"]);
    expect(screen.getByTestId("sort-cer").closest("th")?.getAttribute("aria-sort")).toBe("ascending");
    expect(within(screen.getByTestId("leaderboard-row-rapidocr")).getAllByRole("cell").map((c) => c.textContent))
      .toEqual(["3", "8.0 %", "16.0 %", "92.0 %", "9.0 %", "17.0 %", "91.0 %", "1.0"]);
    fireEvent.click(screen.getByTestId("sort-pages_per_second"));
    expect(order()).toEqual(["tesseract", "rapidocr"]);
    expect(screen.getByTestId("sort-pages_per_second").closest("th")?.getAttribute("aria-sort")).toBe("descending");
    expect(screen.getByTestId("sort-cer").closest("th")?.getAttribute("aria-sort")).toBe("none");
  });
  it("draws the per-kind table", () => {
    render(<KindTable rows={evaluation.leaderboard} />);
    expect(within(screen.getByTestId("kind-row-receipt-tesseract")).getAllByRole("cell").map((c) => c.textContent))
      .toEqual(["tesseract", "1", "30.0 %", "40.0 %", "60.0 %"]);
  });
  it("draws one point per backend, the front ringed and joined, with a text alternative", () => {
    const points = [{ backend: "a", accuracy: 0.95, speed: 1 }, { backend: "b", accuracy: 0.8, speed: 4 }, { backend: "c", accuracy: 0.7, speed: 2 }];
    const { container } = render(<Scatter points={points} colorOf={() => "#123456"} />);
    for (const name of ["a", "b", "c"]) expect(screen.getByTestId(`scatter-point-${name}`)).toBeTruthy();
    expect(screen.getByTestId("scatter-point-a").getAttribute("data-pareto")).toBe("true");
    expect(screen.getByTestId("scatter-point-c").getAttribute("data-pareto")).toBe("false");
    expect(screen.getByTestId("pareto-front").getAttribute("points")?.split(" ")).toHaveLength(2);
    const svg = container.querySelector("svg")!;
    expect(svg.getAttribute("role")).toBe("img");
    expect(screen.getByRole("img", { description: chartSummary(points, new Set(["a", "b"])) })).toBeTruthy();
    expect(chartSummary(points, new Set(["a", "b"]))).toContain("On the Pareto front (no other backend both more accurate and faster): a, b.");
  });
  it("says so instead of an empty chart when no backend has figures yet", () => {
    render(<Scatter points={[]} colorOf={() => ""} />);
    expect(screen.getByTestId("scatter-empty").textContent).toBe("No backend has both an accuracy and a speed yet.");
    expect(screen.queryByTestId("scatter")).toBeNull();
  });
});

describe("the view against the API", () => {
  const backend = (name: string, status = "healthy"): BackendStatus =>
    ({ name, url: "", status: status as BackendStatus["status"], model: name, reason: null, checked_at: null });
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

  it("starts the sample set with the healthy backends and opens the evaluation's URL", async () => {
    const calls: { url: string; body?: FormData }[] = [];
    vi.stubGlobal("fetch", vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, body: init?.body as FormData });
      if (url === "/evaluations" && init?.method === "POST") return json({ id: "ev9", status: "queued", url: "/evaluations/ev9" }, 202);
      if (url === "/evaluations") return json({ evaluations: [{ id: "ev1", status: "done", created: null, backends: ["rapidocr"], documents: 3, progress: {} }] });
      return json({}, 404);
    }));
    window.location.hash = "#/evaluations";
    render(<EvaluationsView backends={[backend("rapidocr"), backend("tesseract"), backend("mineru", "unreachable")]} />);
    expect(await screen.findByTestId("eval-link")).toBeTruthy();
    expect((screen.getByTestId("eval-pick-mineru") as HTMLInputElement).disabled).toBe(true);
    fireEvent.click(screen.getByTestId("eval-sample"));
    await waitFor(() => expect(window.location.hash).toBe("#/evaluations/ev9"));
    const post = calls.find((call) => call.body instanceof FormData)!;
    expect(post.body!.get("sample")).toBe("true");
    expect(post.body!.get("backends")).toBe("rapidocr,tesseract");
  });

  it("shows a finished evaluation and opens a worst document with the reference diff", async () => {
    vi.stubGlobal("fetch", vi.fn(async (url: string) => {
      if (url === "/evaluations/ev1") return json(evaluation);
      if (url === "/evaluations/ev1/documents/b.png") return json(documentDetail);
      return json({}, 404);
    }));
    window.location.hash = "#/evaluations/ev1";
    render(<EvaluationsView backends={[backend("rapidocr"), backend("tesseract")]} />);
    expect(await screen.findByTestId("leaderboard")).toBeTruthy();
    expect(screen.getByTestId("eval-status").textContent).toBe("done");
    expect(screen.getAllByTestId(/^scatter-point-/)).toHaveLength(2);
    expect(screen.queryByTestId("eval-cancel")).toBeNull();
    const worst = within(screen.getByTestId("worst-tesseract")).getAllByTestId("worst-link");
    expect(worst[0].textContent).toBe("b.png");
    window.location.hash = worst[0].getAttribute("href")!;
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    expect(await screen.findByTestId("diff-panel")).toBeTruthy();
    expect((screen.getByTestId("diff-first") as HTMLSelectElement).value).toBe("tesseract");
    expect((screen.getByTestId("diff-second") as HTMLSelectElement).value).toBe("reference");
    expect(screen.getByTestId("diff-added").textContent).toBe("the");
    expect(screen.getByTestId("pane-reference")).toBeTruthy();
  });

  it("follows a running evaluation by its events, then shows it done; cancel sends DELETE", async () => {
    const running = { ...evaluation, status: "running", finished: null, progress: { rapidocr: { done: 1, total: 3, failed: 0 } }, leaderboard: [], results: [] };
    let reads = 0;
    const methods: string[] = [];
    vi.stubGlobal("fetch", vi.fn(async (url: string, init?: RequestInit) => {
      methods.push(`${init?.method ?? "GET"} ${url}`);
      if (url === "/evaluations/ev1/events") {
        return new Response(new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('id: 1\nevent: progress\ndata: {"backend":"rapidocr","done":2,"total":3,"failed":0}\n\n'));
            setTimeout(() => {
              controller.enqueue(new TextEncoder().encode('event: end\ndata: {"status":"done"}\n\n'));
              controller.close();
            }, 50);
          },
        }));
      }
      if (url === "/evaluations/ev1" && init?.method === "DELETE") return json({ ...running, status: "cancelled" });
      if (url === "/evaluations/ev1") {
        reads += 1;
        return json(reads === 1 ? running : evaluation);
      }
      return json({}, 404);
    }));
    window.location.hash = "#/evaluations/ev1";
    render(<EvaluationsView backends={[backend("rapidocr")]} />);
    expect((await screen.findByTestId("eval-progress-rapidocr")).textContent).toContain("1 / 3 documents");
    fireEvent.click(screen.getByTestId("eval-cancel"));
    await waitFor(() => expect(methods).toContain("DELETE /evaluations/ev1"));
    await waitFor(() => expect(screen.getByTestId("eval-status").textContent).toBe("done"));
    expect(screen.getByTestId("leaderboard")).toBeTruthy();
    expect(methods).toContain("GET /evaluations/ev1/events");
  });
});
