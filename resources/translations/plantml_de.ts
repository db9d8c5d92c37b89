<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE" sourcelanguage="en">
<context>
    <name>MainWindow</name>
    <message>
        <source>Data</source>
        <extracomment>``translate("MainWindow", "text")``: the literal calls are what lupdate extracts into resources/translations/*.ts (context "MainWindow", the one the catalogues have).</extracomment>
        <translation>Daten</translation>
    </message>
    <message>
        <source>Step 1: import files or record from the plant, then label each recording. Next: train a model on the Train page.</source>
        <translation>Schritt 1: Dateien importieren oder aus der Anlage aufzeichnen, dann jede Aufzeichnung beschriften. Weiter: ein Modell auf der Seite Training trainieren.</translation>
    </message>
    <message>
        <source>Train</source>
        <translation>Training</translation>
    </message>
    <message>
        <source>Step 2: train on a labelled dataset; the parity gate checks the ONNX export. Next: propose the version on the Models page.</source>
        <translation>Schritt 2: auf einem beschrifteten Datensatz trainieren; die Paritätsprüfung prüft den ONNX-Export. Weiter: die Version auf der Seite Modelle vorschlagen.</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Modelle</translation>
    </message>
    <message>
        <source>Step 3: an engineer proposes a validated version, an approver signs it (four eyes); export the package by USB. Next: deploy it on Controllers.</source>
        <translation>Schritt 3: eine Ingenieurin schlägt eine validierte Version vor, ein Freigeber unterschreibt sie (Vier-Augen-Prinzip); das Paket per USB exportieren. Weiter: auf Steuerungen ausrollen.</translation>
    </message>
    <message>
        <source>Controllers</source>
        <translation>Steuerungen</translation>
    </message>
    <message>
        <source>Step 4: flash an approved version into a controller, then watch its predictions and drift. A drift alarm leads back to new data on the Data page.</source>
        <translation>Schritt 4: eine freigegebene Version in eine Steuerung laden, dann ihre Vorhersagen und die Drift beobachten. Ein Driftalarm führt zurück zu neuen Daten auf der Seite Daten.</translation>
    </message>
    <message>
        <source>Audit</source>
        <translation>Audit</translation>
    </message>
    <message>
        <source>Every step is recorded here: verify the trail, and export it for the auditors.</source>
        <translation>Jeder Schritt ist hier aufgezeichnet: den Prüfpfad verifizieren und für die Prüfer exportieren.</translation>
    </message>
    <message>
        <source>Administration</source>
        <translation>Verwaltung</translation>
    </message>
    <message>
        <source>Accounts, roles and the trusted signing keys: export the trust file every controller needs.</source>
        <translation>Konten, Rollen und die vertrauenswürdigen Signaturschlüssel: die Vertrauensdatei exportieren, die jede Steuerung braucht.</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Session</source>
        <translation>&amp;Sitzung</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>Sign out</source>
        <translation>Abmelden</translation>
    </message>
    <message>
        <source>Switch user…</source>
        <translation>Benutzer wechseln…</translation>
    </message>
    <message>
        <source>Lock</source>
        <translation>Sperren</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Beenden</translation>
    </message>
    <message>
        <source>Sign out and close PlantML</source>
        <translation>Abmelden und PlantML schließen</translation>
    </message>
    <message>
        <source>Hide the pages until your password is entered again</source>
        <translation>Die Seiten verbergen, bis Ihr Passwort erneut eingegeben wird</translation>
    </message>
    <message>
        <source>Sign in as someone else; this session is signed out</source>
        <translation>Als jemand anderes anmelden; diese Sitzung wird abgemeldet</translation>
    </message>
    <message>
        <source>End this session and show the sign-in</source>
        <translation>Diese Sitzung beenden und die Anmeldung zeigen</translation>
    </message>
    <message>
        <source>User guide</source>
        <translation>Benutzerhandbuch</translation>
    </message>
    <message>
        <source>The guide to the whole loop, offline</source>
        <translation>Das Handbuch zum ganzen Ablauf, offline</translation>
    </message>
    <message>
        <source>Self-test</source>
        <translation>Selbsttest</translation>
    </message>
    <message>
        <source>Check this installation, as plantml doctor does</source>
        <translation>Diese Installation prüfen, wie plantml doctor</translation>
    </message>
    <message>
        <source>Version and licences</source>
        <translation>Version und Lizenzen</translation>
    </message>
    <message>
        <source>About PlantML</source>
        <translation>Über PlantML</translation>
    </message>
    <message>
        <source>PlantML user guide</source>
        <translation>PlantML-Benutzerhandbuch</translation>
    </message>
    <message>
        <source>PlantML self-test</source>
        <translation>PlantML-Selbsttest</translation>
    </message>
    <message>
        <source>Run again</source>
        <translation>Erneut ausführen</translation>
    </message>
    <message>
        <source>Checks of this installation (as plantml doctor):</source>
        <translation>Prüfungen dieser Installation (wie plantml doctor):</translation>
    </message>
    <message>
        <source>running the checks…</source>
        <translation>Prüfungen laufen…</translation>
    </message>
    <message>
        <source>PlantML may not work as it should here; tell whoever installed it.</source>
        <translation>PlantML arbeitet hier womöglich nicht richtig; melden Sie es der Person, die es installiert hat.</translation>
    </message>
    <message>
        <source>SELF-TEST FAILED:</source>
        <translation>SELBSTTEST FEHLGESCHLAGEN:</translation>
    </message>
    <message>
        <source>Every check passed.</source>
        <translation>Alle Prüfungen bestanden.</translation>
    </message>
    <message>
        <source>The self-test did not run:</source>
        <translation>Der Selbsttest lief nicht:</translation>
    </message>
    <message>
        <source>your role does not read the audit trail</source>
        <extracomment>How often the workspace alarm is reread (a thread-safe attribute read). Size of the window on a workstation where it was never closed before. Verification events looked at for the newest verdict (refusals are skipped).</extracomment>
        <translation>Ihre Rolle liest den Prüfpfad nicht</translation>
    </message>
    <message>
        <source>working…</source>
        <translation>arbeitet…</translation>
    </message>
    <message>
        <source>PlantML - switch user</source>
        <translation>PlantML - Benutzer wechseln</translation>
    </message>
    <message>
        <source>Sign in as another user. The session of {0} ends when you do.</source>
        <translation>Als anderer Benutzer anmelden. Die Sitzung von {0} endet, sobald Sie es tun.</translation>
    </message>
    <message>
        <source>audit trail: not verified yet</source>
        <extracomment>The results a verification event can have (a refusal is not a verification).</extracomment>
        <translation>Prüfpfad: noch nicht verifiziert</translation>
    </message>
    <message>
        <source>An auditor or administrator verifies it on the Audit page.</source>
        <translation>Ein Prüfer oder Administrator verifiziert ihn auf der Seite Audit.</translation>
    </message>
    <message>
        <source>audit trail: intact</source>
        <translation>Prüfpfad: intakt</translation>
    </message>
    <message>
        <source>last verified</source>
        <translation>zuletzt verifiziert</translation>
    </message>
    <message>
        <source>audit trail: BROKEN</source>
        <translation>Prüfpfad: GEBROCHEN</translation>
    </message>
    <message>
        <source>no roles</source>
        <translation>keine Rollen</translation>
    </message>
    <message>
        <source>workspace: READ-ONLY</source>
        <translation>Arbeitsbereich: NUR LESEN</translation>
    </message>
    <message>
        <source>workspace: writable</source>
        <translation>Arbeitsbereich: beschreibbar</translation>
    </message>
    <message>
        <source>audit trail: state unknown</source>
        <translation>Prüfpfad: Zustand unbekannt</translation>
    </message>
    <message>
        <source>Stopping the job…</source>
        <translation>Der Auftrag wird angehalten…</translation>
    </message>
    <message>
        <source>Stopping the jobs…</source>
        <translation>Die Aufträge werden angehalten…</translation>
    </message>
    <message>
        <source>The job was asked to stop; PlantML closes as soon as it has. Nothing it finished is lost.</source>
        <translation>Der Auftrag wurde gebeten anzuhalten; PlantML schließt, sobald er es getan hat. Nichts, was er abgeschlossen hat, geht verloren.</translation>
    </message>
</context>
</TS>