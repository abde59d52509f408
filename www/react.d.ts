// `<realname-verify>` typed in React 19's JSX (`realname-widget/react`, types only). Enable it once, e.g. in your
// entry: `import type {} from "realname-widget/react";`. React 19 passes `options` as a property (call `init()`
// before rendering, so the element is defined by then, and keep the object stable with `useMemo` or a module
// constant: a new object remounts the widget) and listens to the widget's events through `on<event>` props,
// lowercase as the event names are: `oncomplete={(e) => e.detail.token}`.
import type { DetailedHTMLProps, HTMLAttributes } from "react";
import type {
  CancelDetail, CompleteDetail, ErrorDetail, Options, ReadyDetail, RealNameVerifyAttributes, RealNameVerifyElement,
  StepDetail,
} from "./realname.js";

/** The props of `<realname-verify>` in JSX: its attributes, `options`, and one handler per event. */
export interface RealNameVerifyProps
  extends DetailedHTMLProps<HTMLAttributes<RealNameVerifyElement>, RealNameVerifyElement>, RealNameVerifyAttributes {
  /** Options attributes cannot carry (consent, strings, theme tokens, callbacks); set as a property. */
  options?: Options;
  onready?: (event: CustomEvent<ReadyDetail>) => void;
  onstep?: (event: CustomEvent<StepDetail>) => void;
  oncomplete?: (event: CustomEvent<CompleteDetail>) => void;
  oncancel?: (event: CustomEvent<CancelDetail>) => void;
  onerror?: (event: CustomEvent<ErrorDetail>) => void;
}

declare module "react" {
  namespace JSX {
    interface IntrinsicElements {
      "realname-verify": RealNameVerifyProps;
    }
  }
}
