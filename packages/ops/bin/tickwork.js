#!/usr/bin/env node
// The `tickwork` command. It imports the package by its own name, so Node's
// export conditions pick the build (dist/) normally, and the TypeScript
// sources under `node --conditions=@tickwork/source --import tsx`.
import { runCli } from '@tickwork/ops';

process.exitCode = await runCli(process.argv.slice(2));
