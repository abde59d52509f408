// Type-level tests of "realname-widget/react" (checked by `tsc` in `cargo xtask test`, never run): each
// expected-error directive below must meet an error, so typings that accepted anything would fail the check.
import type {} from "realname-widget/react";
import type { RealNameVerifyElement } from "realname-widget";

export const good = (
  <realname-verify
    publishable-key="pk_demo"
    theme="dark"
    methods="sms,email"
    options={{ locale: "zh-CN", consent: { controller: "Lantern Books" } }}
    oncomplete={(e) => e.detail.token?.length}
    onstep={(e) => e.detail.step === "identity"}
  />
);

// @ts-expect-error: an option of the wrong type
export const badOption = <realname-verify options={{ methods: 5 }} />;
// @ts-expect-error: an attribute of the wrong type
export const badAttribute = <realname-verify publishable-key={42} />;
// @ts-expect-error: the complete event's detail has no such field
export const badDetail = <realname-verify oncomplete={(e) => e.detail.nope} />;
// @ts-expect-error: the step names are a closed set
export const badStep = <realname-verify onstep={(e) => e.detail.step === "nope"} />;

export const element: RealNameVerifyElement | null = document.querySelector("realname-verify");
