Attribute VB_Name = "SWAT"
' Callbacks of the SWAT ribbon tab (customUI.xml). Each button runs one action of
' swat_xl.macros through RunPython, from the xlwings module of this same project.
' Built into swat_xl/resources/vbaProject.bin by workbooks/build_vba.py.
Option Explicit

Private Const CONFIG_SHEET As String = "Config"
Private Const DOWNLOADS_KEY As String = "carpeta_descargas"

Public Sub ImportarCorte(control As IRibbonControl)
    Dim chosen As String
    chosen = PickExport()
    If Len(chosen) > 0 Then RunAction "importar_corte", chosen
End Sub

Public Sub AsignarRepartir(control As IRibbonControl)
    RunAction "asignar_repartir"
End Sub

Public Sub LibrosAsesor(control As IRibbonControl)
    RunAction "libros_asesor"
End Sub

Public Sub RecogerGestiones(control As IRibbonControl)
    RunAction "recoger_gestiones"
End Sub

Public Sub ReasignarAsesor(control As IRibbonControl)
    RunAction "reasignar_asesor"
End Sub

Public Sub ActualizarIndicador(control As IRibbonControl)
    RunAction "actualizar_indicador"
End Sub

Public Sub ExportarFormulario(control As IRibbonControl)
    RunAction "exportar_formulario"
End Sub

Public Sub Archivar(control As IRibbonControl)
    RunAction "archivar"
End Sub

Public Sub Ayuda(control As IRibbonControl)
    RunAction "ayuda"
End Sub

' Runs swat_xl.macros.run(action, args...) in the Python of the xlwings.conf sheet.
' Python and pandas take seconds to start: the status bar and the wait cursor say so from
' the first instant, and both are cleared whatever happens.
Private Sub RunAction(ByVal action As String, ParamArray args() As Variant)
    Dim pyCode As String, i As Long
    pyCode = "import swat_xl.macros as m; m.run(" & PyStr(action)
    For i = LBound(args) To UBound(args)
        pyCode = pyCode & ", " & PyStr(CStr(args(i)))
    Next i
    Application.StatusBar = "SWAT: iniciando…"
    Application.Cursor = xlWait
    On Error GoTo Restore
    RunPython pyCode & ")"
Restore:
    Application.Cursor = xlDefault
    Application.StatusBar = False
    If Err.Number <> 0 Then MsgBox Err.Description, vbCritical, "SWAT"
End Sub

' s as a single-quoted Python literal. RunPython hands the code to cmd.exe inside
' double quotes, so the characters that cmd.exe (% !) or the command-line parser (")
' would act on travel as \x escapes, and Python alone reads them back.
Private Function PyStr(ByVal s As String) As String
    s = Replace(s, "\", "\\")
    s = Replace(s, "'", "\'")
    s = Replace(s, """", "\x22")
    s = Replace(s, "%", "\x25")
    s = Replace(s, "!", "\x21")
    s = Replace(s, vbCr, "\r")
    s = Replace(s, vbLf, "\n")
    PyStr = "'" & s & "'"
End Function

' Excel's own file picker, opened on the newest data*.xlsx of the download folder.
' Returns "" when the user cancels.
Private Function PickExport() As String
    Dim folder As String, suggested As String
    folder = ConfigValue(DOWNLOADS_KEY)
    If Len(folder) = 0 Then folder = Environ$("USERPROFILE") & "\Downloads"
    If Right$(folder, 1) <> "\" Then folder = folder & "\"
    suggested = NewestExport(folder)
    If Len(suggested) = 0 Then suggested = folder
    With Application.FileDialog(msoFileDialogFilePicker)
        .Title = "Seleccione el corte descargado de Power BI"
        .AllowMultiSelect = False
        .Filters.Clear
        .Filters.Add "Corte de Power BI (*.xlsx; *.csv)", "*.xlsx;*.csv"
        .InitialFileName = suggested
        If .Show = -1 Then PickExport = .SelectedItems(1)
    End With
End Function

' Newest data*.xlsx in folder (ending in "\") by FileDateTime; "" if none can be read.
Private Function NewestExport(ByVal folder As String) As String
    Dim candidate As String, stamp As Date, newest As Date
    On Error GoTo Done
    candidate = Dir$(folder & "data*.xlsx")
    Do While Len(candidate) > 0
        stamp = FileDateTime(folder & candidate)
        If Len(NewestExport) = 0 Or stamp > newest Then
            NewestExport = folder & candidate
            newest = stamp
        End If
        candidate = Dir$()
    Loop
Done:
End Function

' Column B of the Config sheet row whose column A is setting (any case);
' "" when the sheet or the setting is missing.
Private Function ConfigValue(ByVal setting As String) As String
    Dim cfg As Worksheet, hit As Variant, found As Variant
    On Error Resume Next
    Set cfg = ThisWorkbook.Worksheets(CONFIG_SHEET)
    On Error GoTo 0
    If cfg Is Nothing Then Exit Function
    hit = Application.Match(setting, cfg.Columns(1), 0)
    If IsError(hit) Then Exit Function
    found = cfg.Cells(hit, 2).Value
    If IsError(found) Then Exit Function
    ConfigValue = Trim$(CStr(found))
End Function
