"""``digitkit app``: an OpenCV window that reads handwritten digits live.

Sources follow the convention of detection tools: ``draw`` (a canvas drawn
with the mouse), a camera index, a video file or an image file. The window is
a thin layer (window.py); everything else is pure and tested without a display:

    sources.py  what --source names, and its frames (lost camera, bad frame, end of file)
    frames.py   process_frame: one frame -> digits, confidences, numbers (through the runtime)
    canvas.py   draw mode's strokes with undo, rendered like a pen on paper
    draw.py     draw mode's behaviour: mouse, keys, live prediction, saving
    stream.py   camera/video/image mode's behaviour: frames, messages, FPS
    render.py   every screen, drawn into numpy images
    events.py   the --log file: one JSON line per prediction event
    models.py   the fp32/int8 recognisers the [m] key switches between
    main.py     the command line wired to the above; cli.py registers it
    bench.py    frames per second of the camera pipeline on one core
"""
