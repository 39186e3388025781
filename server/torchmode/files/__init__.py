"""The project's files as both adapters find and read them: which files a folder holds once
version control's and the configuration's excludes are honoured (``discovery``), and a file's
text decoded as Python decodes it, written back byte-faithfully (``source_files``)."""
