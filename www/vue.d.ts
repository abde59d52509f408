// `<realname-verify>` typed in Vue 3 templates (`realname-widget/vue`, types only; checked by vue-tsc and Volar).
// Enable it once, e.g. in `env.d.ts`: `import type {} from "realname-widget/vue";`, and tell the template
// compiler the tag is a custom element: `vue({ template: { compilerOptions: { isCustomElement: (tag) =>
// tag.startsWith("realname-") } } })` in vite.config. Call `init()` before `app.mount()` so that `:options` is
// set as a property; listen with `@complete="…"` (the event is a CustomEvent: the result is in `detail`).
import type { EmitFn, HTMLAttributes, PublicProps } from "vue";
import type { Options, RealNameEventMap, RealNameVerifyAttributes, RealNameVerifyElement } from "./realname.js";

/** The shape Vue's docs give for a custom element in `GlobalComponents`: its props and its events. The native
 *  `error` and `cancel` handlers of HTMLAttributes are left out: the widget's events of those names carry a
 *  `detail`, and Vue would type `@error` by the prop rather than by `$emit`. */
export type RealNameVerifyComponent = new () => RealNameVerifyElement & {
  /** @deprecated For template type checking only; not a property of the element. */
  $props: Omit<HTMLAttributes, "onError" | "onCancel"> & RealNameVerifyAttributes & { options?: Options } & PublicProps;
  /** @deprecated For template type checking only; not a property of the element. */
  $emit: EmitFn<{ [K in keyof RealNameEventMap]: (event: RealNameEventMap[K]) => void }>;
};

declare module "vue" {
  interface GlobalComponents {
    "realname-verify": RealNameVerifyComponent;
  }
}
