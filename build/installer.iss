; Inno Setup 6 script: a per-machine installer for the one-dir bundle in dist\workstation.
; Build the bundle first, then the installer; build.py passes the package version:
;   python build\build.py --self-test --installer
; (by hand: iscc /DAppVersion=0.1.0 build\installer.iss). Output: dist\KeyingWorkstation-<version>-setup.exe
; Silent install for software distribution: setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{6B7E2C1A-5D3F-4E8B-9A21-3F0C5E7D9B11}
AppName=Keying Workstation
AppVersion={#AppVersion}
AppVerName=Keying Workstation {#AppVersion}
AppPublisher=Keying Workstation
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\Keying Workstation
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\dist
OutputBaseFilename=KeyingWorkstation-{#AppVersion}-setup
SetupIconFile=..\resources\icons\workstation.ico
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\workstation.exe
CloseApplications=yes

[Files]
Source: "..\dist\workstation\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundle whole: libraries a new version no longer ships must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
; The Start-menu entry, for every user of the machine (uninstall: Settings > Apps).
Name: "{autoprograms}\Keying Workstation"; Filename: "{app}\workstation.exe"; WorkingDir: "{app}"

[Code]
{ After copying the files, run the installed self-test in a throw-away workspace (so the
  installing administrator's profile keeps nothing) and say so when it fails. }
procedure CurStepChanged(CurStep: TSetupStep);
var
  ResultCode: Integer;
  Cli: String;
begin
  if CurStep = ssPostInstall then
  begin
    WizardForm.StatusLabel.Caption := 'Checking the installation...';
    Cli := ExpandConstant('{app}\workstation-cli.exe');
    if not Exec(Cli, '--self-test --data-dir "' + ExpandConstant('{tmp}\selftest') + '"', '',
                SW_HIDE, ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
      SuppressibleMsgBox('The Keying Workstation was installed, but its self-test failed (exit code '
        + IntToStr(ResultCode) + '). Open a command prompt and run' + #13#10 + '"' + Cli
        + '" --self-test' + #13#10 + 'to see which check failed.', mbError, MB_OK, IDOK);
  end;
end;
