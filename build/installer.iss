; Inno Setup script: a per-machine installer for the one-dir build in dist\workstation.
; Build the bundle first (python build\build.py), then: iscc /DAppVersion=0.1.0 build\installer.iss
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6B7E2C1A-5D3F-4E8B-9A21-3F0C5E7D9B11}
AppName=Keying Workstation
AppVersion={#AppVersion}
AppPublisher=Keying Workstation
DefaultDirName={autopf}\Keying Workstation
DefaultGroupName=Keying Workstation
PrivilegesRequired=admin
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\dist
OutputBaseFilename=KeyingWorkstation-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\workstation.exe

[Files]
Source: "..\dist\workstation\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Keying Workstation"; Filename: "{app}\workstation.exe"
Name: "{group}\Uninstall Keying Workstation"; Filename: "{uninstallexe}"

[Run]
Filename: "{app}\workstation.exe"; Parameters: "--self-test"; Flags: runhidden waituntilterminated; StatusMsg: "Checking the installation..."
