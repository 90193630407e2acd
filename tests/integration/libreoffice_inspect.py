"""Run by Debian's /usr/bin/python3 (which has LibreOffice's `uno`), not by the test's Python:
open each file in a headless LibreOffice, as a person would in Calc, and print as JSON what the
first sheet shows. Headless conversion (`soffice --convert-to`) would drop view settings such as
frozen panes, so the documents are loaded through UNO and asked.

    python3 libreoffice_inspect.py '[{"path": "a.xlsx"}, {"path": "b.csv", "options": "44,34,76,1,,1041,false,true"}]'
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue

CSV_FILTER = "Text - txt - csv (StarCalc)"
DATE_TYPE = 2  # com.sun.star.util.NumberFormat.DATE (DATETIME includes it)


def prop(name, value):
    item = PropertyValue()
    item.Name, item.Value = name, value
    return item


def connect(port):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(300):
        try:
            return resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        except Exception:  # not listening yet
            time.sleep(0.1)
    raise RuntimeError("LibreOffice did not start")


def inspect(desktop, path, options):
    props = [prop("Hidden", True)]
    if options:
        props += [prop("FilterName", CSV_FILTER), prop("FilterOptions", options)]
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0, tuple(props))
    try:
        sheet = doc.Sheets.getByIndex(0)
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        rows, cols = cursor.RangeAddress.EndRow + 1, cursor.RangeAddress.EndColumn + 1
        formats = doc.NumberFormats

        def cell(c, r):
            item = sheet.getCellByPosition(c, r)
            kind = formats.getByKey(item.NumberFormat).Type
            return {"text": item.String, "type": item.Type.value, "date": bool(kind & DATE_TYPE),
                    "format": formats.getByKey(item.NumberFormat).FormatString}
        filtered = None
        unnamed = doc.getPropertyValue("UnnamedDatabaseRanges")
        if unnamed.hasByTable(0):
            area = unnamed.getByTable(0)
            if area.AutoFilter:
                filtered = [area.DataArea.StartRow + 1, area.DataArea.EndRow + 1, area.DataArea.EndColumn + 1]
        return {"rows": rows, "cols": cols, "frozen": doc.getCurrentController().hasFrozenPanes(),
                "autofilter": filtered, "widths_mm": [sheet.Columns.getByIndex(c).Width / 100 for c in range(cols)],
                "cells": [[cell(c, r) for c in range(cols)] for r in range(rows)]}
    finally:
        doc.close(True)


def main():
    files = json.loads(sys.argv[1])
    port = 20000 + os.getpid() % 20000
    # A profile of our own, kept between runs: a new one costs LibreOffice half a minute.
    profile = os.path.join(tempfile.gettempdir(), f"libreoffice-test-profile-{os.getuid()}")
    if profile:
        office = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
             f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
             f"--accept=socket,host=127.0.0.1,port={port};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            context = connect(port)
            desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
            print(json.dumps([inspect(desktop, f["path"], f.get("options", "")) for f in files], ensure_ascii=False))
            try:
                desktop.terminate()
            except Exception:  # the bridge closes as LibreOffice quits
                pass
        finally:
            try:
                office.wait(30)
            except subprocess.TimeoutExpired:
                office.kill()


if __name__ == "__main__":
    main()
