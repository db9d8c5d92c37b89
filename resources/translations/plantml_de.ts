<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE" sourcelanguage="en">
<context>
    <name>MainWindow</name>
    <message><source>Data</source><translation>Daten</translation></message>
    <message><source>Train</source><translation>Training</translation></message>
    <message><source>Models</source><translation>Modelle</translation></message>
    <message><source>Controllers</source><translation>Steuerungen</translation></message>
    <message><source>Audit</source><translation>Audit</translation></message>
    <message><source>Administration</source><translation>Verwaltung</translation></message>
    <message><source>&amp;File</source><translation>&amp;Datei</translation></message>
    <message><source>&amp;Session</source><translation>&amp;Sitzung</translation></message>
    <message><source>&amp;Help</source><translation>&amp;Hilfe</translation></message>
    <message><source>Sign out</source><translation>Abmelden</translation></message>
    <message><source>Switch user…</source><translation>Benutzer wechseln…</translation></message>
    <message><source>Lock</source><translation>Sperren</translation></message>
    <message><source>Quit</source><translation>Beenden</translation></message>
    <message><source>User guide</source><translation>Benutzerhandbuch</translation></message>
    <message><source>Self-test</source><translation>Selbsttest</translation></message>
    <message><source>About PlantML</source><translation>Über PlantML</translation></message>
</context>
</TS>
