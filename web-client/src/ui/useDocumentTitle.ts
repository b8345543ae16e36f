import { useEffect } from "react";
import { documentTitle, type RunState } from "./run_state";

/** The page title follows the file and the state of the view shown. */
export function useDocumentTitle(fileName: string | null, state: RunState): void {
  useEffect(() => {
    document.title = documentTitle(fileName, state);
  }, [fileName, state]);
}
