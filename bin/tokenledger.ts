#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../core/version.js';
import { processCommand, type ProcessOptions } from './commands/process.js';
import { REPORT_GROUP_HELP, reportCommand, type ReportCliOptions } from './commands/report.js';
import { reconcileCommand, type ReconcileCliOptions } from './commands/reconcile.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { EXIT } from './exit-codes.js';

const program = new Command()
  .name('tokenledger')
  .description('Turns LLM gateway and Claude Code telemetry into attributed, priced LLM spend.')
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError();

program.command('run', { isDefault: true })
  .description('run the pipeline (SIGHUP reloads the file, SIGTERM/SIGINT stop draining)')
  .option('-c, --config <file>', 'pipeline configuration', 'pipeline.yaml')
  .action(async (opts: { config: string }) => {
    process.exitCode = await runCommand(opts.config);
    // Past the shutdown timeout something is still running; it must not keep the process alive.
    if (process.exitCode === EXIT.shutdownTimeout) process.exit(process.exitCode);
  });

program.command('validate')
  .description('check a pipeline configuration and exit: 0 when valid, 1 with the errors, 2 when it cannot be read')
  .option('-c, --config <file>', 'pipeline configuration', 'pipeline.yaml')
  .action((opts: { config: string }) => { process.exitCode = validateCommand(opts.config); });

program.command('process')
  .description('run OTLP export files (JSON or protobuf) through the processors and print one LlmCall JSON object a line')
  .argument('<files...>', 'one OTLP Export request per file')
  .option('-c, --config <file>', 'use the processors of this pipeline.yaml (default: ./pipeline.yaml, as run does; without it claude-normalizer and cost-enrichment with their defaults)')
  .option('-p, --pipeline <name>', 'which pipeline of the config (default: the first with processors)')
  .addOption(new Option('-s, --signal <signal>', 'signal of every file (default: from the file name or content)').choices(['traces', 'metrics', 'logs']))
  .action(async (files: string[], opts: ProcessOptions) => { process.exitCode = await processCommand(files, opts); });

program.command('report')
  .description('spend for a time range from the configured ClickHouse, by day, team, customer, model or provider; `report reconciliation`: the stored reconciliation with providers\' reports')
  .argument('[view]', 'spend (default) or reconciliation', 'spend')
  .option('-c, --config <file>', 'pipeline configuration naming the ClickHouse exporter', 'pipeline.yaml')
  .option('-e, --exporter <id>', 'which clickhouse exporter (default: the first)')
  .option('--from <date>', 'inclusive start, YYYY-MM-DD or RFC 3339 (default: start of this month, UTC)')
  .option('--to <date>', 'exclusive end (default: now)')
  .option('-g, --group-by <keys>', REPORT_GROUP_HELP, 'day,team,model')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
  .action(async (view: string, opts: ReportCliOptions) => { process.exitCode = await reportCommand(opts, undefined, view); });

program.command('reconcile')
  .description("compare the ledger with Anthropic's Admin API usage and cost reports for whole UTC days, store the result and print it")
  .option('-c, --config <file>', 'pipeline configuration with an anthropic_admin extension and a clickhouse exporter', 'pipeline.yaml')
  .option('--extension <id>', 'which anthropic_admin extension (default: the first)')
  .option('-e, --exporter <id>', 'which clickhouse exporter (default: the first)')
  .option('--from <day>', 'first UTC day, YYYY-MM-DD (default: first day of this month)')
  .option('--to <day>', 'day after the last, YYYY-MM-DD (default: tomorrow, so today is included)')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
  .action(async (opts: ReconcileCliOptions) => { process.exitCode = await reconcileCommand(opts); });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.stderr.write(`tokenledger: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT.usage;
  }
}
