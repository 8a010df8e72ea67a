"""demo-orq's Python outside the Pulumi program: the demo's facts, the stack config, the
commands (`demo-orq <verb>`, demo_orq.cli) and the helpers that the commands, tests and
benchmarks share (HTTP, steady load, kubectl, throwaway copies of the project)."""
