"""``.pre-commit-config.yaml``, run as pre-commit runs it, in parallel where that is safe.

::

    .pre-commit-config.yaml --config.load--> PreCommitConfig (validated, every key checked)
      --repos.resolve--> Hook records (remote definitions from each repository's
                         .pre-commit-hooks.yaml, cloned into the user cache)
      --plan.build_plan--> huskycat Plan (hooks with overlapping files in config order)
      --execute.run_hook--> ToolResult per hook (fails on a non-zero exit or changed files)

- :mod:`.config`: the file's schema (pre-commit's ``clientlib``) and its errors;
- :mod:`.repos`: hook repositories, their manifests, hooks merged with the config;
- :mod:`.classify`: the files each hook gets (pre-commit's classifier);
- :mod:`.plan`: hooks -> a Plan: ordering, environments, meta hooks (:mod:`.meta`);
- :mod:`.calls`: what runs one hook, through the result cache;
- :mod:`.execute`: running one hook (python, system, script, pygrep, fail, meta);
- :mod:`.index`: file digests and tags remembered by stat signature between runs;
- :mod:`.migrate`: the equivalent ``[tool.huskycat]`` configuration.
"""

from __future__ import annotations

CONFIG_FILE = ".pre-commit-config.yaml"
MANIFEST_FILE = ".pre-commit-hooks.yaml"
