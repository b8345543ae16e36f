import { useEffect, useRef, useState, type FormEvent } from "react";
import { getApiKey, setApiKey } from "../api/api_key";

/** The API key field in the header. When the server answers 401 it says so plainly (no key yet,
 * or the key given was refused) and puts the cursor in the field. */
export function ApiKeyControl({ needsKey }: { needsKey: boolean }) {
  const [draft, setDraft] = useState(getApiKey);
  const [hasKey, setHasKey] = useState(() => getApiKey() !== "");
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (needsKey) input.current?.focus();
  }, [needsKey]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setApiKey(draft);
    setHasKey(draft.trim() !== "");
  };

  return (
    <form className="api-key" onSubmit={submit} data-testid="api-key-form">
      <label>
        API key{" "}
        <input
          ref={input}
          type="password"
          autoComplete="off"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          placeholder={needsKey ? "required by this server" : "only if the server asks"}
          data-testid="api-key-input"
        />
      </label>{" "}
      <button type="submit" data-testid="api-key-save">Use key</button>
      {needsKey ? (
        <div className="error" role="alert" data-testid="api-key-needed">
          {hasKey
            ? "The server refused this API key (401). Enter a valid key."
            : "This server needs an API key (401). Enter it here to use it."}
        </div>
      ) : null}
    </form>
  );
}
