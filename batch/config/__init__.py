"""The config file (`batch.toml`): a pydantic model, read and checked key by key into Settings.

`--config PATH` names the file; without it `./batch.toml` is read when it exists, else the
defaults apply. Every key is optional. An unknown section or key, or a value of the wrong type,
stops the run with `ConfigError` naming the dotted key (exit 2), e.g.
``config run.chunk_size: expected a whole number, got 'ten'``. Relative paths in the file are
relative to the file's own folder (so a cron job may run from anywhere).

The keys, their types, meanings and defaults live in `batch.config.model`; the README's table
is rendered from it (`python -m batch.config --markdown`) and a test keeps the two equal.
Secrets are `SecretStr` in the model and `Secret` in Settings: neither prints its value.
"""

from batch.config.load import load_config

__all__ = ["load_config"]
