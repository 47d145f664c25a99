#!/usr/bin/env bash
# Runs `invhooks INPUT_COMMAND INPUT_ARGS` for the GitHub Action in
# action.yml and passes its exit code through unchanged. Outputs (to
# $GITHUB_OUTPUT): `exitcode`, `has-changes` (`true` for exit 2: changes
# present for `plan --detailed-exitcode` and `drift`), and `markdown`, the
# path of a file holding the Markdown report the command wrote for the step
# summary (plan, apply, drift; empty otherwise), which is also appended to
# the job's real step summary.
#
# With INPUT_STDOUT, stdout goes to that file instead of the log (for
# example `--format json` for jq).
#
# INPUT_COMMAND and INPUT_ARGS are split on whitespace (no shell quoting,
# no globbing): paths with spaces need a directory or a symlink.
set -uo pipefail

bin="${INVHOOKS_BIN:-invhooks}"
line="${INPUT_COMMAND:-} ${INPUT_ARGS:-}"
read -r -a words <<< "${line//$'\n'/ }"
if [ "${#words[@]}" -eq 0 ]; then
  echo "::error title=invhooks::the command input is empty; set it to plan, apply, drift, validate, …" >&2
  exit 1
fi

summary="${GITHUB_STEP_SUMMARY:-}"
markdown="$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/invhooks-markdown.XXXXXX")"
if [ -n "${INPUT_STDOUT:-}" ]; then
  GITHUB_STEP_SUMMARY="$markdown" "$bin" "${words[@]}" > "$INPUT_STDOUT"
else
  GITHUB_STEP_SUMMARY="$markdown" "$bin" "${words[@]}"
fi
code=$?

if [ -n "$summary" ] && [ -s "$markdown" ]; then
  cat "$markdown" >> "$summary"
fi
changes=false
[ "$code" -eq 2 ] && changes=true
{
  echo "exitcode=$code"
  echo "has-changes=$changes"
  echo "markdown=$markdown"
} >> "${GITHUB_OUTPUT:-/dev/null}"
exit "$code"
