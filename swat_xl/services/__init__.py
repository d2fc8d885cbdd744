"""Use cases of swat_xl. The CLI and the ribbon macros call these and nothing else."""

from swat_xl.services.importing import import_cut
from swat_xl.services.master import assign_pending, init_workbook, reassign_agent, set_roster

__all__ = ["assign_pending", "import_cut", "init_workbook", "reassign_agent", "set_roster"]
