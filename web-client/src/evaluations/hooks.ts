/** One evaluation followed live: read once, then again on its events (at most twice a second) until
 * it is final; and the list of recent evaluations. */
import { useCallback, useEffect, useState } from "react";
import { readEvents } from "../api/sse";
import { evaluationsApi } from "./api";
import { FINAL_EVALUATION_STATUSES, type Evaluation, type EvaluationSummary } from "./types";

const REREAD_MS = 500;

export interface EvaluationState {
  evaluation: Evaluation | null;
  error: Error | null;
  reload: () => void;
}

export function useEvaluation(id: string | null): EvaluationState {
  const [evaluation, setEvaluation] = useState<Evaluation | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [round, setRound] = useState(0);
  const reload = useCallback(() => setRound((value) => value + 1), []);

  useEffect(() => {
    setEvaluation(null);
    setError(null);
  }, [id]);

  useEffect(() => {
    if (!id) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = 0;
    const read = async (): Promise<Evaluation | null> => {
      last = Date.now();
      try {
        const found = await evaluationsApi.get(id, { signal: controller.signal });
        if (!controller.signal.aborted) {
          setEvaluation(found);
          setError(null);
        }
        return found;
      } catch (err) {
        if (!controller.signal.aborted) setError(err as Error);
        return null;
      }
    };
    const soon = () => {
      if (timer) return;
      timer = setTimeout(() => { timer = undefined; void read(); }, Math.max(0, REREAD_MS - (Date.now() - last)));
    };
    void (async () => {
      const first = await read();
      if (!first || FINAL_EVALUATION_STATUSES.has(first.status) || controller.signal.aborted) return;
      try {
        await readEvents(evaluationsApi.eventsUrl(id), soon, { signal: controller.signal });
      } catch (err) {
        if (!controller.signal.aborted) setError(err as Error);
      }
      clearTimeout(timer);
      timer = undefined;
      if (!controller.signal.aborted) await read();
    })();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [id, round]);
  return { evaluation, error, reload };
}

export function useRecentEvaluations(refresh: unknown): { list: EvaluationSummary[] | null; error: Error | null } {
  const [list, setList] = useState<EvaluationSummary[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    evaluationsApi.list({ signal: controller.signal })
      .then((answer) => { setList(answer.evaluations); setError(null); })
      .catch((err) => { if (!controller.signal.aborted) setError(err as Error); });
    return () => controller.abort();
  }, [refresh]);
  return { list, error };
}
