"""What several test modules share: the CLI runner, LibreOffice, the Excel simulation, how a
user marks a workbook. Test modules import from here, never from each other."""
