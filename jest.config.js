/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.tsx?$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }],
    // jose ships only ES modules, which Jest's own loader cannot require.
    "/node_modules/jose/.+\\.js$": [
      "ts-jest",
      { tsconfig: { allowJs: true, module: "commonjs", target: "es2022" }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  // The package's own entry points by the names its users import them by, from source.
  moduleNameMapper: {
    "^access-bridge$": "<rootDir>/index.ts",
    "^access-bridge/client$": "<rootDir>/client/index.ts",
    "^access-bridge/identity$": "<rootDir>/identity/src/index.ts",
  },
  testTimeout: 30000,
};
