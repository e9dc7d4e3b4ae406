"""Entry point of the vet_diffimg plugin: registers check V09."""

from vetcore import hookimpl

VETCORE_API = 1


@hookimpl
def vetcore_register_checks(register):
    pass
