; Inno Setup 6 script: per-machine installer for the PyInstaller one-folder build of PlantML.
;
; Build, after `pyinstaller --noconfirm --clean installer/plantml.spec` has produced
; dist\PlantML\ (run from the repo root):
;     iscc /DAppVersion=0.1.0 installer\plantml.iss
; Output: dist\installer\PlantML-<version>-setup.exe
;
; Workspaces, audit trails and backups live in per-user/per-machine data folders
; (platformdirs), never under {app}; the uninstaller therefore removes only the
; program files and a reinstall or upgrade never touches plant data.

#ifndef AppVersion
  ; Keep in step with [project].version in pyproject.toml, or pass /DAppVersion=...
  #define AppVersion "0.1.0"
#endif
#define AppName "PlantML"
#define AppExe "PlantML.exe"
; Relative to this script's folder (installer\).
#define BuildDir "..\dist\PlantML"

[Setup]
; The AppId identifies the product to Windows' uninstall registry across versions:
; never change it, or upgrades install side by side instead of in place.
AppId={{2EEA4407-A995-4FF3-A575-F31577EE7D6B}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=PlantML
VersionInfoVersion={#AppVersion}
; Per-machine: installs to Program Files for all users, which needs elevation.  No
; per-user override (PrivilegesRequiredOverridesAllowed) is offered, so every
; operator on a shared plant PC runs the same, admin-controlled build.
PrivilegesRequired=admin
; {autopf} is "Program Files" in admin mode (64-bit with the lines below).
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; The PyInstaller build is 64-bit Python; refuse 32-bit Windows and install into the
; native Program Files, not Program Files (x86).
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Qt 6 and Python 3.11+ need Windows 10 or later.
MinVersion=10.0
; Close a running PlantML before replacing its DLLs (they are locked while it runs).
CloseApplications=yes
RestartApplications=no
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName} {#AppVersion}
OutputDir=..\dist\installer
OutputBaseFilename={#AppName}-{#AppVersion}-setup
; One solid LZMA2 stream: the Qt/NumPy DLLs compress far better together.
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade must not leave stale modules from the previous version in _internal\
; (PyInstaller's folder layout changes between dependency versions, and a leftover
; .pyd or migration script would be picked up).  {app} holds no user data.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
; The whole one-folder build: PlantML.exe plus _internal\ (Python runtime, Qt, the
; compiled _timestats kernel with vcomp140.dll, Alembic migrations as .py data).
; ignoreversion: PyInstaller's DLLs carry arbitrary version resources, and files from
; one build must always replace those of another, whatever their version fields say.
Source: "{#BuildDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
; {autoprograms} is the all-users Start menu in admin mode.
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
