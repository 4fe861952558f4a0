#!/usr/bin/env node
// The nsfd command. The CLI is TypeScript in lib/cli/, compiled to dist/cli/
// with the library (npm run build:ts).
'use strict';
require('../dist/cli/main.js').cli(process.argv.slice(2));
