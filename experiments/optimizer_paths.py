"""The chapter study `optimizer_paths` as a script.

The same as `scratchnet-chapter optimizer_paths`; its code is in scratchnet.cli.studies.
"""

from scratchnet.cli.studies import run_study

if __name__ == "__main__":
    run_study("optimizer_paths")
