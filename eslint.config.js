// One tool for lint and format: ESLint with typescript-eslint (type-aware where it matters for
// a server: unawaited promises) and @stylistic for layout. Biome was the first choice but its
// per-platform binaries are not all served by the registry CI uses, so `npm ci` cannot verify
// its lockfile entries.
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
  { files: ["bench/**/*.ts"], rules: { "no-console": "off" } },
  {
    files: ["test/**/*.ts", "src/**/*.test.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-floating-promises": "off" },
  },
);
