# Build the PyInstaller one-folder bundle on Windows (dist\PlantML\: PlantML.exe and
# plantml-cli.exe), then the installer with Inno Setup if iscc is on the PATH.
# Run from the repository root in the project's venv (MSVC Build Tools for the kernels).
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
python -m pip install -q -e ".[build]"
$watch = [Diagnostics.Stopwatch]::StartNew()
python -m PyInstaller --noconfirm --clean --log-level WARN installer\plantml.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
$size = (Get-ChildItem dist\PlantML -Recurse | Measure-Object Length -Sum).Sum / 1MB
"bundle: dist\PlantML, {0:N0} MB, built in {1:N0} s" -f $size, $watch.Elapsed.TotalSeconds
& dist\PlantML\plantml-cli.exe doctor
if ($LASTEXITCODE -ne 0) { throw "the frozen self-test failed" }
if (Get-Command iscc -ErrorAction SilentlyContinue) { iscc installer\plantml.iss }
