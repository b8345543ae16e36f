/** Errors as the page shows them: which backend, what code, what happened. */
import { ApiError } from "./api/client";

export interface ShownError {
  backend: string | null;
  code?: string;
  message: string;
}

/** Any failure (an ApiError names its backend; otherwise ``backend`` is the one asked for). */
export function errorOf(error: unknown, backend: string | null): ShownError {
  if (error instanceof ApiError) return { backend: error.backend ?? backend, code: error.code, message: error.message };
  return { backend, message: (error as Error).message };
}
