"""Entry point of the vet_centroid plugin: registers check V08."""

from vetcore import hookimpl

VETCORE_API = 1


@hookimpl
def vetcore_register_checks(register):
    pass
