"""Turn a device string ("cpu", "cuda", "cuda:N") into a torch.device, failing loudly."""

import torch

_CHOICES = "'cpu', 'cuda' or 'cuda:N'"


def check_device(device: str | torch.device) -> torch.device:
    """Return torch.device(device); ValueError for garbage or for CUDA that is not there."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}: expected {_CHOICES}") from err
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {device!r}: expected {_CHOICES}")
    if dev.type == "cuda":
        # Falling back to CPU silently would make a "GPU" comparison meaningless.
        if not torch.cuda.is_available():
            raise ValueError(
                f"CUDA was requested (--device {device}) but torch.cuda.is_available() "
                "is False: install a CUDA build of torch or use --device cpu"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"CUDA device {dev.index} was requested but only {torch.cuda.device_count()} device(s) are visible"
            )
    return dev
