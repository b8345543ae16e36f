/** The orchestrator's optional API key (ORCHESTRATOR_API_KEYS on the server).
 *
 * Kept in sessionStorage: it lasts while the tab is open and is gone when it closes, so a shared
 * machine does not keep it; never in the URL (it would reach logs and history). Every API call
 * takes its header from `authHeaders()`, the one place that adds it. */
const STORAGE_KEY = "ocr-service.api-key";
export const API_KEY_HEADER = "X-API-Key";

type Listener = () => void;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the key then lives only in this page
  }
}

let memoryKey = "";

export function getApiKey(): string {
  return storage()?.getItem(STORAGE_KEY) ?? memoryKey;
}

export function setApiKey(key: string): void {
  const trimmed = key.trim();
  memoryKey = trimmed;
  const store = storage();
  if (trimmed) store?.setItem(STORAGE_KEY, trimmed);
  else store?.removeItem(STORAGE_KEY);
  listeners.forEach((listener) => listener());
}

/** Called whenever the key changes (the backend list then loads again at once). */
export function onApiKeyChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function authHeaders(): Record<string, string> {
  const key = getApiKey();
  return key ? { [API_KEY_HEADER]: key } : {};
}

/** The orchestrator's 401 code (shared/errors.py Unauthorized). */
export const UNAUTHORIZED = "unauthorized";
