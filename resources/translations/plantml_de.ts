<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE" sourcelanguage="en">
<context>
    <name>MainWindow</name>
    <message>
        <source>Data</source>
        <extracomment>``translate(&quot;MainWindow&quot;, &quot;text&quot;)``: the literal calls are what lupdate extracts into resources/translations/*.ts (context &quot;MainWindow&quot;, the one the catalogues have).</extracomment>
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
    <message>
        <source>a challenger is being trained</source>
        <translation>ein Herausforderer wird gerade trainiert</translation>
    </message>
    <message>
        <source>show a captured snapshot first: capture windows, or watch until a drift alarm captures them</source>
        <translation>zuerst einen erfassten Snapshot anzeigen: Fenster erfassen oder beobachten, bis ein Drift-Alarm sie erfasst</translation>
    </message>
    <message>
        <source>confirm or relabel the captured windows first: a prediction is not a label</source>
        <translation>zuerst die erfassten Fenster bestätigen oder neu labeln: eine Vorhersage ist kein Label</translation>
    </message>
    <message>
        <source>windows {0}-{1} carry no label: confirm or relabel one of them too</source>
        <translation>die Fenster {0}-{1} tragen kein Label: bestätigen oder labeln Sie auch eines davon neu</translation>
    </message>
    <message>
        <source>Training a challenger</source>
        <translation>Das Trainieren eines Herausforderers</translation>
    </message>
    <message>
        <source>Train a new version on the champion&apos;s data plus these labelled windows, with the champion&apos;s recipe, and compare both</source>
        <translation>Eine neue Version mit dem Rezept des Champions auf dessen Daten und diesen gelabelten Fenstern trainieren und beide vergleichen</translation>
    </message>
    <message>
        <source>the controller ran no model when these windows were captured, so there is no champion</source>
        <translation>die Steuerung führte beim Erfassen dieser Fenster kein Modell aus, daher gibt es keinen Champion</translation>
    </message>
    <message>
        <source>{0}, which the controller ran, cannot be read here: {1}</source>
        <translation>{0}, das die Steuerung ausführte, kann hier nicht gelesen werden: {1}</translation>
    </message>
    <message>
        <source>{0} is a {1}; a challenger is trained against a classifier only</source>
        <translation>{0} ist ein {1}; ein Herausforderer wird nur gegen einen Klassifikator trainiert</translation>
    </message>
    <message>
        <source>Train challenger...</source>
        <translation>Herausforderer trainieren...</translation>
    </message>
    <message>
        <source>training a challenger to {0}</source>
        <translation>Herausforderer zu {0} wird trainiert</translation>
    </message>
    <message>
        <source>training the challenger</source>
        <translation>das Training des Herausforderers</translation>
    </message>
    <message>
        <source>training the challenger cancelled: no version was registered</source>
        <translation>Training des Herausforderers abgebrochen: keine Version wurde registriert</translation>
    </message>
    <message>
        <source>{0} was trained as the challenger of {1} and awaits approval on the Models page (propose it there first).</source>
        <translation>{0} wurde als Herausforderer von {1} trainiert und wartet auf der Seite Modelle auf die Freigabe (schlagen Sie die Version dort zuerst vor).</translation>
    </message>
    <message>
        <source>{0} was trained as the challenger of {1} but did not pass the parity gate ({2}), so it cannot be approved.</source>
        <translation>{0} wurde als Herausforderer von {1} trainiert, hat die Paritätsprüfung aber nicht bestanden ({2}) und kann daher nicht freigegeben werden.</translation>
    </message>
    <message>
        <source>On the same {0} held-out windows ({1} of them from the captured data): accuracy {2} for the champion, {3} for the challenger; on the captured windows {4} and {5}.</source>
        <translation>Auf denselben {0} zurückgehaltenen Fenstern ({1} davon aus den erfassten Daten): Genauigkeit {2} für den Champion, {3} für den Herausforderer; auf den erfassten Fenstern {4} und {5}.</translation>
    </message>
    <message>
        <source>Challenger {0} against {1}</source>
        <translation>Herausforderer {0} gegen {1}</translation>
    </message>
    <message>
        <source>class</source>
        <translation>Klasse</translation>
    </message>
    <message>
        <source>held-out windows</source>
        <translation>zurückgehaltene Fenster</translation>
    </message>
    <message>
        <source>champion {0}</source>
        <translation>Champion {0}</translation>
    </message>
    <message>
        <source>challenger {0}</source>
        <translation>Herausforderer {0}</translation>
    </message>
    <message>
        <source>Recall per true class: the share of its windows each model named right.</source>
        <translation>Trefferquote je wahrer Klasse: der Anteil ihrer Fenster, den jedes Modell richtig benannte.</translation>
    </message>
    <message>
        <source>Rows: true class; columns: predicted class (the same held-out windows)</source>
        <translation>Zeilen: wahre Klasse; Spalten: vorhergesagte Klasse (dieselben zurückgehaltenen Fenster)</translation>
    </message>
    <message>
        <source>Champion {0}</source>
        <translation>Champion {0}</translation>
    </message>
    <message>
        <source>Challenger {0}</source>
        <translation>Herausforderer {0}</translation>
    </message>
    <message>
        <source>Accuracy per class</source>
        <translation>Genauigkeit je Klasse</translation>
    </message>
    <message>
        <source>Confusion matrices</source>
        <translation>Konfusionsmatrizen</translation>
    </message>
    <message>
        <source>Robustness of the challenger</source>
        <translation>Robustheit des Herausforderers</translation>
    </message>
    <message>
        <source>Open on the Models page</source>
        <translation>Auf der Seite Modelle öffnen</translation>
    </message>
    <message>
        <source>Show {0} on the Models page, where it is proposed and approved</source>
        <translation>{0} auf der Seite Modelle zeigen, wo die Version vorgeschlagen und freigegeben wird</translation>
    </message>
</context>
</TS>
