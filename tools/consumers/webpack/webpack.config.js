// webpack 5 with its defaults: `new URL("…wasm", import.meta.url)` becomes an emitted asset.
export default {
  entry: "./main.js",
  output: { filename: "main.js", clean: true },
  devtool: false,
};
