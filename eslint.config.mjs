// Lints the extension's TypeScript (type-aware) and the build/test scripts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
    { ignores: ['out/**', 'bundled/**', 'node_modules/**', '**/*.d.ts'] },
    js.configs.recommended,
    {
        files: ['client/**/*.ts'],
        extends: [tseslint.configs.strictTypeChecked],
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        rules: {
            '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
            // `() => output.show()` reads well and returns nothing anyone looks at.
            '@typescript-eslint/no-confusing-void-expression': 'off',
        },
    },
    {
        files: ['client/test/**/*.ts'],
        rules: {
            // node:test's describe/it return promises that the runner itself awaits.
            '@typescript-eslint/no-floating-promises': [
                'error',
                { allowForKnownSafeCalls: [{ from: 'package', name: ['describe', 'it'], package: 'node:test' }] },
            ],
        },
    },
    {
        files: ['tests/vscode/fake-python-extension/*.js'],
        languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', exports: 'writable' } },
    },
    {
        files: ['**/*.mjs'],
        languageOptions: {
            globals: { console: 'readonly', process: 'readonly', URL: 'readonly', setTimeout: 'readonly', fetch: 'readonly' },
        },
    },
);
