# Install the PlantML edge runtime as a Windows service, with NSSM (the Non-Sucking Service
# Manager, https://nssm.cc, one nssm.exe): Windows' own sc.exe can only start programs that
# speak the service control protocol, which a console program does not; NSSM runs it, sends
# it Ctrl+C to stop (the runtime then finishes its background step and closes the port),
# restarts it when it exits, and rotates its log.
#
# Run in an elevated PowerShell, after installing the wheel into a venv:
#   py -3.11 -m venv "C:\Program Files\PlantML Edge"
#   & "C:\Program Files\PlantML Edge\Scripts\pip.exe" install --no-index --find-links wheels plantml-edge
#   .\install-service.ps1 -HardwareId ctrl-a1 -Trust C:\path\to\trust.json -Listen "--tcp 0.0.0.0:502"
#   .\install-service.ps1 -HardwareId ctrl-a1 -Trust trust.json -Listen "--serial COM3 --baud 115200"
# Remove it with:  nssm stop PlantMLEdge; nssm remove PlantMLEdge confirm

param(
    [Parameter(Mandatory = $true)][string]$HardwareId,
    [Parameter(Mandatory = $true)][string]$Trust,
    [string]$Listen = "--tcp 0.0.0.0:502",
    [string]$Venv = "C:\Program Files\PlantML Edge",
    [string]$Data = "C:\ProgramData\PlantML Edge",
    [string]$Nssm = "nssm.exe",
    [string]$Name = "PlantMLEdge"
)
$ErrorActionPreference = "Stop"

$exe = Join-Path $Venv "Scripts\plantml-edge.exe"
if (-not (Test-Path $exe)) { throw "no $exe: install the plantml-edge wheel into $Venv first" }
$state = Join-Path $Data "state"
$logs = Join-Path $Data "logs"
New-Item -ItemType Directory -Force -Path $state, $logs | Out-Null
$pinned = Join-Path $Data "trust.json"
Copy-Item -Force $Trust $pinned

# The service runs as LocalService: it may write its state and logs, nothing else of ours.
icacls $Data /inheritance:r /grant:r "Administrators:(OI)(CI)F" "SYSTEM:(OI)(CI)F" `
    "NT AUTHORITY\LocalService:(OI)(CI)M" | Out-Null

$arguments = @("serve", "--state-dir", "`"$state`"", "--hardware-id", $HardwareId,
               "--trust", "`"$pinned`"") + ($Listen -split "\s+") + @("--log-level", "INFO")
& $Nssm install $Name $exe @arguments
& $Nssm set $Name DisplayName "PlantML edge controller runtime"
& $Nssm set $Name Description "PlantML reference controller runtime: Modbus TCP/RTU, A/B model slots"
& $Nssm set $Name AppDirectory $Data
& $Nssm set $Name ObjectName "NT AUTHORITY\LocalService"
& $Nssm set $Name Start SERVICE_AUTO_START
# Stop: Ctrl+C first and wait up to 15 s for a clean stop; only then close or kill it.
& $Nssm set $Name AppStopMethodConsole 15000
& $Nssm set $Name AppStopMethodWindow 5000
& $Nssm set $Name AppExit Default Restart
& $Nssm set $Name AppRestartDelay 2000
& $Nssm set $Name AppStdout (Join-Path $logs "plantml-edge.log")
& $Nssm set $Name AppStderr (Join-Path $logs "plantml-edge.log")
& $Nssm set $Name AppRotateFiles 1
& $Nssm set $Name AppRotateBytes 10485760

if ($Listen -match "--tcp\s+\S*:(\d+)") {
    $port = [int]$Matches[1]
    New-NetFirewallRule -DisplayName "PlantML Edge Modbus TCP $port" -Direction Inbound `
        -Protocol TCP -LocalPort $port -Action Allow -Profile Domain, Private | Out-Null
}
& $Nssm start $Name
Write-Host "service $Name started; log in $logs"
