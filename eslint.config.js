// One tool for lint and format: ESLint with typescript-eslint (type-aware where it matters for
// a server: unawaited promises) and @stylistic for layout. Biome was the first choice but its
// per-platform binaries are not all served by the registry CI uses, so `npm ci` cannot verify
// its lockfile entries.
import { builtinModules } from "node:module";
import js from "@eslint/js";
import stylistic from "@stylistic/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/", "node_modules/", ".stowage-data/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  stylistic.configs.customize({ indent: 2, quotes: "double", semi: true, arrowParens: true, braceStyle: "1tbs" }),
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "bin/*.js"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
      "no-console": ["error", { allow: ["error", "warn"] }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
      "no-control-regex": "off", // several regexes exist precisely to refuse control characters
      "@stylistic/max-len": ["error", { code: 140, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreComments: true }],
      "@stylistic/operator-linebreak": "off",
      "@stylistic/multiline-ternary": "off",
      "@stylistic/quote-props": ["error", "as-needed"],
    },
  },
  { files: ["**/*.js"], languageOptions: { globals: { process: "readonly", URL: "readonly", console: "readonly" } } },
  // The API contract goes as it is into the client SDK's browser bundle: nothing from Node or
  // Fastify, and from the rest of src/ only the two files it needs, which import nothing at all.
  // src/api/ is flat, so `../` always leaves it.
  {
    files: ["src/api/**/*.ts"],
    ignores: ["src/api/**/*.test.ts"],
    rules: { "no-restricted-imports": contractImports("^(/|\\.\\./(?!errors\\.js$|uploads/status\\.js$))", "src/api/ takes only ../errors.js and ../uploads/status.js from the rest of src/") },
  },
  {
    files: ["src/errors.ts", "src/uploads/status.ts"],
    rules: { "no-restricted-imports": contractImports("^[./]", "src/api/ imports this file, so it imports no other") },
  },
  { files: ["bench/**/*.ts"], rules: { "no-console": "off" } },
  {
    files: ["test/**/*.ts", "src/**/*.test.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-floating-promises": "off" },
  },
);

/**
 * `no-restricted-imports` for the contract's files: Node (bare built-ins such as `fs/promises`,
 * and `node:*`), Fastify, and the relative imports `local` matches (a regex), saying `why` not.
 */
function contractImports(local, why) {
  const bundle = "the API contract goes as it is into the SDK's browser bundle";
  return ["error", {
    paths: builtinModules.map((name) => ({ name, message: `No Node here: ${bundle}.` })),
    patterns: [
      { group: ["node:*"], message: `No Node here: ${bundle}.` },
      { group: ["fastify*", "@fastify/*", "mercurius*"], message: `No Fastify here: ${bundle}, and routes use it, never the other way round.` },
      { regex: local, message: `${why}: ${bundle}.` },
    ],
  }];
}
