// No plugin needed: Vite compiles TSX with React's automatic JSX runtime (tsconfig "jsx": "react-jsx"), and finds
// the widget's wasm through its `new URL("…", import.meta.url)`, in builds and in the dev server alike.
export default {
  build: { target: "es2022" },
  plugins: [
    {
      // The e2e test of the dev server (e2e/tests/e2e/consumers.rs) names the verification server for the page's
      // CSP here; for builds the test replaces the marker when it serves the page.
      name: "realname-server-in-csp",
      apply: "serve",
      transformIndexHtml: (html) => html.replace("__REALNAME_SERVER__", process.env.REALNAME_SERVER ?? ""),
    },
  ],
};
