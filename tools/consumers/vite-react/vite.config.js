// No plugin needed: Vite compiles TSX with React's automatic JSX runtime (tsconfig "jsx": "react-jsx"), and finds
// the widget's wasm through its `new URL("…", import.meta.url)`.
export default {
  build: { target: "es2022" },
};
