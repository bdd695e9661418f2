"""What a person asks for when creating a job, checked before anything is sent.

`JobSpec.problems()` lists every problem at once as `(field, message)` pairs; `JobSpec.to_body()` builds the
`CreateFineTuningJobRequest` body (hyperparameters under `method`, the non-deprecated form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Auto = Literal["auto"]
AUTO: Auto = "auto"
ProviderName = Literal["openai", "azure"]

MAX_SEED = 2_147_483_647
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
AZURE_SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class JobSpec:
    model: str
    training_file: str
    validation_file: str | None = None
    suffix: str | None = None
    seed: int | None = None
    epochs: int | Auto | None = None
    batch_size: int | Auto | None = None
    lr_multiplier: float | Auto | None = None
    method: Literal["supervised", "dpo"] = "supervised"
    beta: float | Auto | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def problems(self, provider: ProviderName = "openai") -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if not self.model.strip():
            found.append(("model", "is required, e.g. model=gpt-4o-mini-2024-07-18"))
        if not self.training_file.strip():
            found.append(("training_file", "is required: the id of an uploaded file, e.g. file-abc123"))
        if self.suffix is not None:
            if provider == "azure" and not AZURE_SUFFIX.match(self.suffix):
                found.append(("suffix", "on Azure must be 1–40 characters of A–Z, a–z, 0–9, - and _"))
            elif not 1 <= len(self.suffix) <= 64:
                found.append(("suffix", "must be 1–64 characters"))
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            found.append(("seed", f"must be a whole number from 0 to {MAX_SEED}"))
        if isinstance(self.epochs, int) and not 1 <= self.epochs <= 50:
            found.append(("epochs", "must be 1–50 or auto"))
        if isinstance(self.batch_size, int) and not 1 <= self.batch_size <= 256:
            found.append(("batch_size", "must be 1–256 or auto"))
        if isinstance(self.lr_multiplier, float | int) and not self.lr_multiplier > 0:
            found.append(("lr_multiplier", "must be greater than 0, or auto"))
        if self.method not in ("supervised", "dpo"):
            found.append(("method", "must be supervised or dpo"))
        if self.beta is not None:
            if self.method != "dpo":
                found.append(("beta", "only applies to method=dpo"))
            elif isinstance(self.beta, float | int) and not 0 < self.beta <= 2:
                found.append(("beta", "must be greater than 0 and at most 2, or auto"))
        if len(self.metadata) > MAX_METADATA_PAIRS:
            found.append(("metadata", f"at most {MAX_METADATA_PAIRS} pairs are allowed"))
        for key, value in self.metadata.items():
            if not 1 <= len(key) <= MAX_METADATA_KEY:
                found.append((f"meta.{key[:20]}", f"keys must be 1–{MAX_METADATA_KEY} characters"))
            if len(value) > MAX_METADATA_VALUE:
                found.append((f"meta.{key[:20]}", f"values must be at most {MAX_METADATA_VALUE} characters"))
        return found

    def to_body(self) -> dict[str, Any]:
        hyper: dict[str, Any] = {}
        if self.epochs is not None:
            hyper["n_epochs"] = self.epochs
        if self.batch_size is not None:
            hyper["batch_size"] = self.batch_size
        if self.lr_multiplier is not None:
            hyper["learning_rate_multiplier"] = self.lr_multiplier
        if self.method == "dpo" and self.beta is not None:
            hyper["beta"] = self.beta
        body: dict[str, Any] = {"model": self.model, "training_file": self.training_file}
        if self.validation_file:
            body["validation_file"] = self.validation_file
        if self.suffix is not None:
            body["suffix"] = self.suffix
        if self.seed is not None:
            body["seed"] = self.seed
        if self.metadata:
            body["metadata"] = dict(self.metadata)
        body["method"] = {"type": self.method, self.method: {"hyperparameters": hyper}}
        return body
