// A Vue 3 app embedding the widget, as docs/frameworks.md shows: `init()` before `mount()` (it defines
// <realname-verify>, so Vue sets `:options` as a property), the typings from "realname-widget/vue" (env.d.ts).
import { createApp } from "vue";
import init from "realname-widget";
import { checkValidate, server } from "../../shared";
import App from "./App.vue";

await checkValidate();
await init();
createApp(App, { server }).mount("#app");
