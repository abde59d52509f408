import { useMemo, useState } from "react";
import type { CompleteDetail, Options } from "realname-widget";
import { record } from "../../shared";

/** The sign-up step of a site: the widget, and what the site does with its result. */
export function App({ server }: { server: string }) {
  const [result, setResult] = useState<CompleteDetail | null>(null);
  // Stable across renders: a new object would remount the widget.
  const options = useMemo<Options>(
    () => ({ consent: { controller: "Lantern Books", retention: "until you close your account", version: "2026-01" } }),
    [],
  );
  return (
    <main>
      <h1>Create your account</h1>
      <realname-verify
        server={server}
        publishable-key="pk_demo"
        locale="en"
        options={options}
        onready={(e) => record("ready", e.detail)}
        onstep={(e) => record("step", e.detail)}
        oncomplete={(e) => {
          record("complete", e.detail);
          setResult(e.detail); // send e.detail.token to your backend, which verifies it (docs/site-backends.md)
        }}
        oncancel={(e) => record("cancel", e.detail)}
        onerror={(e) => record("error", e.detail)}
      />
      {result && <p id="result">Verification: {result.status}</p>}
    </main>
  );
}
