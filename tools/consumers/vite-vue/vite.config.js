import vue from "@vitejs/plugin-vue";

// The one setting Vue needs for a custom element: its template compiler must not look for a Vue component.
export default {
  plugins: [vue({ template: { compilerOptions: { isCustomElement: (tag) => tag.startsWith("realname-") } } })],
  build: { target: "es2022" },
};
