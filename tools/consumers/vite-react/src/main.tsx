// A React 19 app embedding the widget, as docs/frameworks.md shows: `init()` before the first render (it defines
// <realname-verify>, so React sets `options` as a property), the typings from "realname-widget/react".
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import init from "realname-widget";
import type {} from "realname-widget/react";
import { checkValidate, server } from "../../shared";
import { App } from "./App";

await checkValidate();
await init();
createRoot(document.getElementById("app")!).render(
  <StrictMode>
    <App server={server} />
  </StrictMode>,
);
